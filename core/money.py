"""Money is stored as whole fen (exact sums on every database) and shown and typed as yuan."""

from decimal import Decimal

CENT = Decimal("0.01")


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def yuan_to_fen(yuan: Decimal | None) -> int:
    """Yuan with at most 2 decimals (forms and serializers check that) as whole fen."""
    return int(((yuan or Decimal(0)) * 100).to_integral_value())


def format_money(fen: int | None) -> str:
    """Fen as yuan with 2 decimals, for cells and exports: ``16000`` → ``160.00``; blank for none."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"
