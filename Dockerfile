FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY emulator ./emulator
# No `[demo]` extra: the image talks to a real Wallaroo and carries no emulator packages.
RUN pip install . && useradd --create-home --uid 10001 chatops

USER chatops
EXPOSE 3000
# The slim image has no curl; Python's urllib asks /healthz instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=3).status != 200)"]
CMD ["wallaroo-chatops", "serve"]
