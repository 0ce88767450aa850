"""Full-text search over encrypted messages, with a blind index.

Each word of a message is normalised and stored only as a keyed hash (HMAC-SHA256 with a key
derived from SECRET_KEY, truncated to 128 bits). A search hashes its words the same way and
looks the hashes up, restricted to the rooms the reader may see. The database never holds the
words; someone with the database but not the key cannot test guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import cache

from django.conf import settings

_WORD = re.compile(r"[\w']+", re.UNICODE)
MAX_TOKENS_PER_MESSAGE = 2000
MIN_WORD = 2


@cache
def _key() -> bytes:
    return hashlib.sha256(b"confide-search-index:" + settings.SECRET_KEY.encode()).digest()


def normalise(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold().replace("'", ""))
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for match in _WORD.finditer(text):
        word = normalise(match.group(0))
        if len(word) >= MIN_WORD:
            seen.setdefault(word, None)
            if len(seen) >= MAX_TOKENS_PER_MESSAGE:
                break
    return list(seen)


def token(word: str) -> str:
    return hmac.new(_key(), word.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def tokens_for_text(text: str) -> list[str]:
    return [token(word) for word in words(text)]
