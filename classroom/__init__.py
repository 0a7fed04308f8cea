"""The class's shared store: drawn digits and a leaderboard, in SQLite or PostgreSQL.

Kept apart from engine/ (NumPy only) and ui/ (Streamlit): `store.py` is the database,
`export.py` writes the class set as MNIST files, `teacher.py` checks the teacher's passcode.
"""
