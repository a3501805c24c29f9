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

# Catalog imports (an organizer's upload, see clinic.catalog_io). The demo catalog with its 2,000
# labelled examples is about 1 MB; 10 MB leaves room for years of examples and refuses the rest.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
# A CSV bundle unpacked. CSV compresses about 4:1, so an honest 10 MB zip stays below this; a zip
# bomb (a few KB that unpack to gigabytes) is refused before anything is extracted.
MAX_BUNDLE_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
# The six CSV files of a bundle, with room for a folder and the __MACOSX copies a Mac adds.
MAX_BUNDLE_ENTRIES = 32
# Seats at one table, or people one expert takes in a round.
MAX_CAPACITY = 100
# Expert ids and example labels: the width of their database columns.
MAX_ID_CHARS = 80
# ISO 639-1 codes (two letters), or ISO 639-3 (three) for languages 639-1 does not have.
LANGUAGE_CODE_PATTERN = r"[a-z]{2,3}"
# An event's length, and the length of one round, in minutes.
MAX_EVENT_MINUTES = 600
