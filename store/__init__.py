"""Persistence for Peer Clinic: SQLAlchemy Core schema, queries and transactions.

SQLite by default, PostgreSQL by URL. Nothing here decides anything: the use cases in `clinic/`
do, inside the transactions this package gives them.
"""
