"""The assistant (智能客服): a conversation with the customer that does the task (dialogue, flows,
slots, replies), on top of the understanding package, and hands off to a person through a port."""
