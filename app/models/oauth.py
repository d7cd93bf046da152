"""OAuth tokens (ACLED's token flow): only SHA-256 hashes of random tokens, each tied to the
API key that obtained it, so revoking the key ends its tokens too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, utcnow


class OAuthToken(Base):
    __tablename__ = "oauth_tokens"
    __table_args__ = (Index("ix_oauth_tokens_api_key_id", "api_key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "access" or "refresh"
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when a refresh token is used (rotation) or the pair is otherwise ended.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
