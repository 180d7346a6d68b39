"""The bot's words: dialogue replies (text keys + params) rendered in zh-CN or en from the .po
catalogues (web/locale/*/LC_MESSAGES/assistant.po), at the moment they are sent, so the stored
transcript reads the same to the customer, the agent who takes over and the audit."""

from __future__ import annotations

from aftersales.assistant.dialogue import L, Param, Reply, T
from aftersales.web import i18n


def word(param: Param, lang: str) -> str:
    if isinstance(param, T):
        return i18n.gettext(lang, param.key)
    if isinstance(param, L):
        return (param.zh if lang == "zh-CN" else param.en) or param.en or param.zh
    return param


def render(reply: Reply, lang: str) -> str:
    template = i18n.gettext(lang, reply.key)
    params = {name: word(value, lang) for name, value in reply.params.items()}
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        # A catalogue entry with a stray brace must not break the chat: show it unformatted.
        return template
