"""Text encoders: hashed TF-IDF (:mod:`~labelloop.learn.text.tfidf`) and MiniLM sentence embeddings
(:mod:`~labelloop.learn.text.minilm`), chosen by name with :func:`labelloop.learn.get_encoder`."""
