"""Ids from the real Wallaroo answers recorded in tests/test_client_real_answers.py, which its
models twin (tests/test_client_real_answers_models.py) shows again."""

PIPELINE_VERSION = "f1b7d3a4-0c6e-4b8e-9d2a-6f3c1e5b7a90"
MODEL_VERSION = "2d4c8e1f-7a3b-4c5d-9e6f-0a1b2c3d4e5f"
SHA = "e22a0831aafd9917f3cc87a15ed267797f80e2afa12ad7d8810ca58f173b8cc6"
