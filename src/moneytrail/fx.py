"""Reference currency data: the ISO 4217 codes moneytrail accepts and approximate CAD rates.

The rates are *reference rates*, not market data: rounded, long-run approximations (CAD per one
unit of the currency) good enough to put amounts from many currencies on one scale for detection
thresholds and totals. They are fixed so that results are reproducible offline. Where a real
exchange rate at the transaction date matters, load it with the data (``amount_cad``) instead.

>>> cad_rate("USD")
1.37
>>> "VUV" in KNOWN_CURRENCIES
True
"""

from __future__ import annotations

# Active ISO 4217 alphabetic codes (plus the common precious-metal and special codes).
KNOWN_CURRENCIES: frozenset[str] = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CRC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "UYU",
        "UZS",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XCD",
        "XCG",
        "XOF",
        "XPF",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
        "XAU",
        "XAG",
        "XPT",
        "XPD",
        "XDR",
    ]
)

# CAD per one unit of the currency (rounded reference rates, not market data).
CAD_PER_UNIT: dict[str, float] = {
    "CAD": 1.0,
    "USD": 1.37,
    "EUR": 1.48,
    "GBP": 1.73,
    "CHF": 1.55,
    "JPY": 0.0092,
    "CNY": 0.19,
    "HKD": 0.175,
    "MOP": 0.17,
    "TWD": 0.043,
    "SGD": 1.02,
    "AUD": 0.9,
    "NZD": 0.82,
    "KRW": 0.001,
    "INR": 0.0165,
    "MXN": 0.075,
    "BRL": 0.26,
    "AED": 0.373,
    "SAR": 0.365,
    "TRY": 0.042,
    "RUB": 0.015,
    "ZAR": 0.074,
    "SEK": 0.13,
    "NOK": 0.128,
    "DKK": 0.198,
    "PLN": 0.34,
    "CZK": 0.059,
    "HUF": 0.0037,
    "ILS": 0.37,
    "THB": 0.038,
    "MYR": 0.29,
    "PHP": 0.024,
    "IDR": 0.000086,
    "VND": 0.000054,
    "PKR": 0.0049,
    "COP": 0.00033,
    "ARS": 0.0015,
    "CLP": 0.0014,
    "PEN": 0.36,
    "NGN": 0.0009,
    "EGP": 0.028,
    "KES": 0.0106,
    # Currencies pegged to the US dollar (rate = peg x USD rate).
    "BSD": 1.37,
    "BMD": 1.37,
    "PAB": 1.37,
    "BBD": 0.685,
    "BZD": 0.685,
    "XCD": 0.507,
    "KYD": 1.64,
    "AWG": 0.765,
    "ANG": 0.765,
    # Small economies seen in benchmark data.
    "VUV": 0.0115,
    "SCR": 0.095,
    "MUR": 0.03,
    "FJD": 0.61,
    "WST": 0.5,
    "TOP": 0.58,
}

unknown = set(CAD_PER_UNIT) - KNOWN_CURRENCIES
assert not unknown, f"rates for codes missing from KNOWN_CURRENCIES: {sorted(unknown)}"
del unknown


def is_known_currency(code: str | None) -> bool:
    """True when ``code`` is an ISO 4217 code moneytrail knows (case-sensitive, upper case)."""
    return code in KNOWN_CURRENCIES


def cad_rate(code: str) -> float | None:
    """CAD per one unit of ``code`` at the reference rate, or None when no rate is on file."""
    return CAD_PER_UNIT.get(code)


def known_currencies_sql() -> str:
    """The known codes as a SQL list literal body: ``'AED', 'AFN', ...``."""
    return ", ".join(f"'{c}'" for c in sorted(KNOWN_CURRENCIES))


def cad_amount_sql(amount: str, currency: str) -> str:
    """SQL expression converting ``amount`` in ``currency`` to CAD; NULL where no rate is on file.

    A CASE over the small rate table streams with the scan (no join).
    """
    whens = " ".join(f"WHEN '{c}' THEN {amount} * {r!r}" for c, r in sorted(CAD_PER_UNIT.items()))
    return f"(CASE {currency} {whens} ELSE NULL END)"
