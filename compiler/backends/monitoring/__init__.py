"""The monitoring backend: `backend.BACKEND` renders it."""
