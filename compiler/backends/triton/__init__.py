"""The triton backend: `backend.BACKEND` renders it."""
