"""Language-model data at import (docs/feedback.md, "Items"): prompts, OpenAI messages and candidate
responses mapped onto the schema (chat.py), and Hugging Face `save_to_disk` folders (hf_disk.py)."""
