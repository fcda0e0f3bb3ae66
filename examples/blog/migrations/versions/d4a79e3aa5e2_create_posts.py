"""create posts with a status enum

Revision ID: d4a79e3aa5e2
Revises: 1e212bc13912
Create Date: 2025-03-04 16:40:51.907113

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "d4a79e3aa5e2"
down_revision: Union[str, Sequence[str], None] = "1e212bc13912"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

post_status = sa.Enum("draft", "published", "archived", name="poststatus")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", post_status, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("posts")
    # drop_table leaves PostgreSQL's enum type behind; other backends have none.
    post_status.drop(op.get_bind(), checkfirst=True)
