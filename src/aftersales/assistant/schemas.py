"""Shapes of the chat: a conversation with its messages and the quick replies on offer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ButtonOut(BaseModel):
    label: str
    value: str = Field(description="posted back as `choice`: order:<number>, yes, no, human, intent:<id>…")


class MessageOut(BaseModel):
    id: int
    sender: str = Field(description="customer, bot or agent")
    sender_name: str
    text: str
    created_at: datetime
    key: str = Field(default="", description="the bot's text key (chat.…), for tests and analytics")
    link: str = ""
    link_label: str = ""


class ConversationOut(BaseModel):
    id: int
    status: str = Field(description="bot, waiting_human, with_human or closed")
    language: str
    handed_off_to: str = Field(description="the ticket number once handed to a person")
    messages: list[MessageOut]
    buttons: list[ButtonOut] = Field(description="quick replies to the latest bot message")
