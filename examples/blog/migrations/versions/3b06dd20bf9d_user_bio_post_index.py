"""user bio, index posts by status and publication date

Revision ID: 3b06dd20bf9d
Revises: 24a822636973
Create Date: 2025-03-19 14:27:45.630982

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "3b06dd20bf9d"
down_revision: Union[str, Sequence[str], None] = "24a822636973"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("users", sa.Column("bio", sa.Text(), nullable=True))
    op.create_index(
        "ix_posts_status_published_at", "posts", ["status", "published_at"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_posts_status_published_at", table_name="posts")
    op.drop_column("users", "bio")
