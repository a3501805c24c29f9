"""Limits and thresholds shared by the whole product, defined once.

`matching` is the innermost package, so the store, the use cases and the pages import these from
here instead of repeating a number.
"""

# A challenge is a question or a short story: the 2018 ones were one or two sentences. 2,000
# characters leave room for context on a phone; longer text is refused with a message, not cut.
MAX_CHALLENGE_CHARS = 2000
MAX_NAME_CHARS = 80
MAX_NOTE_CHARS = 2000

# Lower-case slug: what organizers type as a topic id, and what URLs and exports carry.
TOPIC_ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,39}"

# The router never reads more than this many characters of one text (speed on pasted essays).
MAX_ROUTED_CHARS = 5000
