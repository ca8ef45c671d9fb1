"""The kubernetes backend: `backend.BACKEND` renders it."""
