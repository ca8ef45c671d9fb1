"""The argocd backend: `backend.BACKEND` renders it."""
