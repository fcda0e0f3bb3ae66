"""The engine and session factory, configured from DATABASE_URL."""

import os

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///blog.db")

engine = create_engine(DATABASE_URL)
SessionLocal = sessionmaker(engine)
