"""Knowledge base (知识库 / 帮助中心): help articles for customers, the bot and agents."""
