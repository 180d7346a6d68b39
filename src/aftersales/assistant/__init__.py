"""The assistant (智能客服): understanding Chinese and English messages and doing the task."""
