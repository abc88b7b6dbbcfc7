"""The FastAPI application: routers per audience, schemas, templates and static files."""
