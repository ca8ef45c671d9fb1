"""The github backend: `backend.BACKEND` renders it."""
