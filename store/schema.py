"""The database schema (SQLAlchemy Core): every row belongs to an event.

Lists and per-language maps (an expert's languages, a topic's keywords) are JSON: they are read
and written whole with their row, never queried inside.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Bump when a table or column changes; `create_schema` refuses a database of another version
# rather than guessing.
SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("conference", Text, nullable=False, default=""),
    Column("date", String(10), nullable=False, default=""),
    Column("minutes", Integer, nullable=False, default=90),
    Column("rounds", Integer, nullable=False, default=2),
    Column("minutes_per_round", Integer, nullable=False, default=35),
    Column("current_round", Integer, nullable=False, default=1),
    Column("round_started_at", DateTime(timezone=True)),
    Column("default_language", String(8), nullable=False, default="en"),
    Column("submissions_open", Boolean, nullable=False, default=True),
    # Facilitators' moves and confirmations become labelled examples the router learns from.
    Column("learn_from_corrections", Boolean, nullable=False, default=True),
    Column("catalog_version", Integer, nullable=False, default=1),
    # Bumped by every write a live view shows: the board's cheap "what changed since" check.
    Column("change_counter", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

languages = Table(
    "languages",
    metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(8), primary_key=True),
    Column("name", Text, nullable=False),
    Column("native_name", Text, nullable=False),
    Column("direction", String(3), nullable=False, default="ltr"),
    Column("position", Integer, nullable=False, default=0),
)

topics = Table(
    "topics",
    metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("keywords", JSON, nullable=False, default=dict),
    Column("names", JSON, nullable=False, default=dict),
    Column("descriptions", JSON, nullable=False, default=dict),
    Column("active", Boolean, nullable=False, default=True),
    Column("position", Integer, nullable=False, default=0),
)

experts = Table(
    "experts",
    metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("expert_id", String(80), primary_key=True),
    Column("name", Text, nullable=False),
    Column("affiliation", Text, nullable=False, default=""),
    Column("topics", JSON, nullable=False, default=list),
    Column("languages", JSON, nullable=False, default=list),
    Column("expertise", Text, nullable=False, default=""),
    Column("capacity", Integer, nullable=False, default=6),
    Column("present", Boolean, nullable=False, default=True),
    Column("table_number", Integer),
    Column("position", Integer, nullable=False, default=0),
)

clinic_tables = Table(
    "clinic_tables",
    metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("topic_id", String(40), nullable=False),
    Column("capacity", Integer, nullable=False, default=8),
    Column("locked", Boolean, nullable=False, default=False),
)

examples = Table(
    "examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("topic_id", String(40), nullable=False),
    Column("language", String(8)),
    Column("source", String(16), nullable=False, default="sample"),  # sample | confirmed
    Column("label", String(80), nullable=False, default=""),
)

challenges = Table(
    "challenges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("ticket", String(16), nullable=False, unique=True),
    # Set by the form when it is drawn: a second submit of the same form finds the first row.
    Column("submission_key", String(64), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("participant_name", Text, nullable=False, default=""),
    Column("languages", JSON, nullable=False, default=list),
    Column("detected_language", String(8)),
    Column("status", String(16), nullable=False, default="waiting"),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_challenges_event_status", "event_id", "status"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("table_number", Integer),  # NULL: waiting in the triage queue
    Column("expert_id", String(80)),
    Column("language", String(8)),
    Column("topic_id", String(40), nullable=False),
    Column("topic_score", Float, nullable=False, default=0.0),
    Column("confidence", String(8), nullable=False, default="low"),
    Column("alternatives", JSON, nullable=False, default=list),
    Column("terms", JSON, nullable=False, default=list),
    Column("triage_reason", String(32)),
    Column("candidates", JSON, nullable=False, default=list),
    Column("method", String(16), nullable=False, default="auto"),  # auto | optimized | manual
    Column("locked", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("challenge_id", "round", name="uq_assignment_round"),
    ForeignKeyConstraint(
        ["event_id", "table_number"], ["clinic_tables.event_id", "clinic_tables.number"], ondelete="SET NULL"
    ),
    Index("ix_assignments_event_round", "event_id", "round"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE")),
    Column("table_number", Integer),
    Column("round", Integer),
    Column("kind", String(16), nullable=False, default="suggestion"),  # question | suggestion
    Column("text", Text, nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", Text, nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
)

# "Me too": a participant joins another's challenge (instead of or besides their own). The supporter
# is their own challenge, or, for someone who wrote none, a random key their browser session holds,
# stored hashed: the row says nothing about who they are and lets nobody act as them.
me_too = Table(
    "me_too",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), nullable=False),  # the one joined
    Column("supporter_challenge_id", ForeignKey("challenges.id", ondelete="CASCADE")),
    Column("supporter_key", String(64)),  # sha256 hex of the session's key, when there is no own challenge
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("challenge_id", "supporter_challenge_id", name="uq_me_too_challenge"),
    UniqueConstraint("challenge_id", "supporter_key", name="uq_me_too_key"),
    CheckConstraint("(supporter_challenge_id IS NULL) <> (supporter_key IS NULL)", name="ck_me_too_one_supporter"),
)

# What organizers decided about a suggested topic (dismissed it, or created a topic from it), so the
# suggestion does not come back as it grows: its key (from its words) and its members at the time.
suggestion_decisions = Table(
    "suggestion_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("suggestion_key", String(32), nullable=False),
    Column("members", JSON, nullable=False, default=list),  # challenge ids
    Column("decision", String(16), nullable=False),  # dismissed | created
    Column("topic_id", String(40)),  # the topic created from it
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("event_id", "suggestion_key", name="uq_suggestion_decision"),
)
