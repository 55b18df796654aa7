"""Built-in label types. Importing this package registers each one."""

from labelloop.schema.types import choice, free_text, multi_choice, rating, spans

__all__ = ["choice", "free_text", "multi_choice", "rating", "spans"]
