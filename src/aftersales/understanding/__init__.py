"""Understanding customers' words: normalising, tokenising, spelling, entities and the intent model.

Shared by the assistant (what a chat message asks for) and the tickets context (an email's intent,
the ticket classifier's normalised text and n-grams). Depends on kit and its own data files only;
docs/decisions/0019-understanding-package.md says why it is a package of its own.
"""
