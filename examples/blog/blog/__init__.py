"""A small blog: users write posts, posts carry tags."""
