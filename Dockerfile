FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY emulator ./emulator
RUN pip install . && useradd --create-home --uid 10001 chatops

USER chatops
EXPOSE 3000
CMD ["wallaroo-chatops", "serve"]
