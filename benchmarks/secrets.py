"""The secrets scan: speed and accuracy against detect-secrets, ``python -m benchmarks.secrets
[--sample-mb 20] [--files 300] [--seed 7]``.

Throughput: every text file of this environment's site-packages (no NUL in the first 8 KB, at
most 2 MB), read, decoded (UTF-8, errors replaced) and scanned one after the other in one
process by Shieldwall's engine with all built-in rules. detect-secrets 1.5 (default plugins and
filters, its Python API) is far slower, so both tools are also timed on the same seeded random
sample of files (``--sample-mb``); detect-secrets goes on over the whole tree only when that
would take under three minutes. Targets: at least 20 MB/s, and at least 5 times detect-secrets.

Accuracy: a labelled corpus built in a temporary folder from real files of site-packages (a
seeded sample of ``--files`` .py/.js/.json/.yaml/.md/.txt files) with lines planted in each:
fake secrets from this module's own generators (prefix, alphabet and length of about fifty
formats over the rule categories, database URLs with passwords, PEM keys, JWTs) and decoys
that are not secrets (hashes, UUIDs, base64 of random data under non-secret names, test
placeholders, the keys providers print in their documentation). Per planted line: a report
on a secret's line is a true positive, on a decoy's a false positive, a secret with none a
false negative. Reports on the files' own lines are counted apart (unlabelled: real code,
which holds documentation examples and test fixtures, not ground truth).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import re
import string
import sys
import sysconfig
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from shieldwall.scan.secrets.engine import SecretMatch, SecretScanner
from shieldwall.scan.secrets.rules import Confidence, builtin_rules

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
MAX_BYTES = 2 * 1024**2
TARGET_MB_S = 20.0
TARGET_RATIO = 5.0
DETECT_SECRETS_BUDGET = 180.0
"""Seconds detect-secrets may take over the whole tree before it is timed on the sample only."""
CORPUS_EXTENSIONS = (".py", ".js", ".json", ".yaml", ".yml", ".md", ".txt")
MB = 1024**2


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextFile:
    path: Path
    size: int


def text_files(root: Path) -> list[TextFile]:
    """Regular files under ``root`` that are text: no NUL in the first 8 KB, at most 2 MB."""
    found: list[TextFile] = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                size = path.stat().st_size
                if size > MAX_BYTES:
                    continue
                with path.open("rb") as handle:
                    if b"\0" in handle.read(8192):
                        continue
            except OSError:
                continue
            found.append(TextFile(path, size))
    return found


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def sample(files: list[TextFile], megabytes: float, seed: int) -> list[TextFile]:
    """A seeded random subset of ``files`` of at least ``megabytes``."""
    shuffled = list(files)
    random.Random(seed).shuffle(shuffled)
    chosen: list[TextFile] = []
    total = 0
    for item in shuffled:
        if total >= megabytes * MB:
            break
        chosen.append(item)
        total += item.size
    return chosen


def megabytes(files: Iterable[TextFile]) -> float:
    return sum(f.size for f in files) / MB


# --- the two tools -------------------------------------------------------------------------


class Shieldwall:
    name = "shieldwall"

    def __init__(self) -> None:
        self.scanner = SecretScanner(builtin_rules())

    def scan(self, path: Path) -> list[SecretMatch]:
        return self.scanner.scan(read_text(path), str(path))

    def lines(self, path: Path, least: Confidence = Confidence.LOW) -> set[int]:
        """The lines a secret was reported on (each line of a multi-line one)."""
        order = [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW]
        kept = order[: order.index(least) + 1]
        return {
            line
            for match in self.scan(path)
            if match.confidence in kept
            for line in range(match.line, match.end_line + 1)
        }


class DetectSecrets:
    """detect-secrets 1.5 through its Python API, with its default plugins and filters."""

    name = "detect-secrets"

    def __init__(self) -> None:
        from detect_secrets.core.scan import scan_file
        from detect_secrets.settings import default_settings

        self._scan_file = scan_file
        self._settings = default_settings

    @contextmanager
    def configured(self) -> Iterator[None]:
        with self._settings():
            yield

    def lines(self, path: Path) -> set[int]:
        return {int(secret.line_number) for secret in self._scan_file(str(path))}


def detect_secrets() -> DetectSecrets | None:
    try:
        return DetectSecrets()
    except ImportError:
        return None


# --- throughput ----------------------------------------------------------------------------


@dataclass
class Timing:
    files: int
    megabytes: float
    seconds: float
    complete: bool = True

    @property
    def rate(self) -> float:
        return self.megabytes / self.seconds if self.seconds else float("inf")


def time_shieldwall(tool: Shieldwall, files: list[TextFile]) -> Timing:
    started = time.perf_counter()
    for item in files:
        tool.scan(item.path)
    return Timing(len(files), megabytes(files), time.perf_counter() - started)


def time_detect_secrets(
    tool: DetectSecrets, first: list[TextFile], rest: list[TextFile], total_mb: float
) -> Timing:
    """Times ``first`` (the sample); goes on over ``rest`` only when the whole would stay
    within the budget at the sample's pace."""
    with tool.configured():
        started = time.perf_counter()
        for item in first:
            tool.lines(item.path)
        elapsed = time.perf_counter() - started
        done = Timing(len(first), megabytes(first), elapsed, complete=False)
        if total_mb / done.rate > DETECT_SECRETS_BUDGET:
            return done
        started = time.perf_counter()
        for item in rest:
            tool.lines(item.path)
        elapsed += time.perf_counter() - started
    return Timing(len(first) + len(rest), total_mb, elapsed)


def throughput(sample_mb: float, seed: int) -> None:
    files = text_files(SITE_PACKAGES)
    total_mb = megabytes(files)
    shieldwall = Shieldwall()
    print(
        f"secrets scan throughput: {len(files):,} text files, {total_mb:.1f} MB ({SITE_PACKAGES})"
    )
    print(f"{'tool':<16} {'files':>7} {'MB':>7} {'time':>9} {'MB/s':>8}  target")
    full = time_shieldwall(shieldwall, files)
    row("shieldwall", full, f">= {TARGET_MB_S:.0f} MB/s", full.rate >= TARGET_MB_S)
    tool = detect_secrets()
    if tool is None:
        print("detect-secrets: not installed (pip install detect-secrets), comparison skipped")
        return
    chosen = sample(files, sample_mb, seed)
    chosen_paths = {item.path for item in chosen}
    rest = [item for item in files if item.path not in chosen_paths]
    theirs = time_detect_secrets(tool, chosen, rest, total_mb)
    if theirs.complete:
        ours = full
        print("detect-secrets over the whole tree:")
    else:
        ours = time_shieldwall(shieldwall, chosen)
        print(
            f"sample (seed {seed}, detect-secrets would take over "
            f"{DETECT_SECRETS_BUDGET / 60:.0f} min for the whole tree): "
            f"{len(chosen):,} files, {megabytes(chosen):.1f} MB"
        )
        row("shieldwall", ours, "", None)
    row("detect-secrets", theirs, "", None)
    ratio = ours.rate / theirs.rate
    mark = "ok" if ratio >= TARGET_RATIO else "UNDER TARGET"
    print(
        f"shieldwall / detect-secrets: {ratio:.1f}x faster (target >= {TARGET_RATIO:.0f}x)  {mark}"
    )


def row(tool: str, timing: Timing, target: str, met: bool | None) -> None:
    mark = "" if met is None else ("ok" if met else "UNDER TARGET")
    print(
        f"{tool:<16} {timing.files:>7,} {timing.megabytes:>7.1f} {timing.seconds:>7.2f} s "
        f"{timing.rate:>8.2f}  {target} {mark}".rstrip(),
        flush=True,
    )


# --- fake secrets (this module's own generators, not the rules' examples) ---------------------

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
BASE32 = string.ascii_uppercase + "234567"
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def crc_token(rng: random.Random, prefix: str) -> str:
    """GitHub's and npm's format: 30 random base62 characters and their CRC-32 in base62."""
    body = chars(rng, ALNUM, 30)
    number, digits = zlib.crc32(body.encode()), ""
    for _ in range(6):
        number, digit = divmod(number, 62)
        digits = BASE62[digit] + digits
    return prefix + body + digits


def pem(rng: random.Random, label: str, lines: int) -> list[str]:
    body = base64.b64encode(rng.randbytes(48 * lines)).decode()
    return [
        f"-----BEGIN {label}-----",
        *(body[i : i + 64] for i in range(0, len(body), 64)),
        f"-----END {label}-----",
    ]


def b64url_json(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def jwt(rng: random.Random) -> str:
    header = b64url_json({"alg": "RS256", "typ": "JWT", "kid": chars(rng, HEX, 8)})
    payload = b64url_json(
        {
            "sub": f"user-{rng.randrange(10**6)}",
            "aud": "orders",
            "exp": 1900000000 + rng.randrange(10**6),
        }
    )
    return f"{header}.{payload}.{chars(rng, B64URL, 86)}"


Gen = Callable[[random.Random], str]


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    variable: str
    value: Gen
    secret: bool = True


def k(name: str, category: str, variable: str, value: Gen) -> Kind:
    return Kind(name, category, variable, value)


ALPHABETS = {
    "alnum": ALNUM,
    "lower": LOWER_ALNUM,
    "upper": UPPER_ALNUM,
    "hex": HEX,
    "b64": B64,
    "b64url": B64URL,
    "b32": BASE32,
    "digits": string.digits,
    "letters": string.ascii_letters,
    "a-h": "abcdefgh0123456789",
}
_FIELD = re.compile(r"\{([a-z0-9-]+):(\d+)\}")


def t(template: str) -> Gen:
    """A generator from a template: ``{alphabet:length}`` fields between literal text."""

    def generate(rng: random.Random) -> str:
        return _FIELD.sub(lambda m: chars(rng, ALPHABETS[m[1]], int(m[2])), template)

    return generate


def azure_connection_string(rng: random.Random) -> str:
    key = base64.b64encode(rng.randbytes(64)).decode()
    account = chars(rng, LOWER_ALNUM, 10)
    return (
        f"DefaultEndpointsProtocol=https;AccountName=st{account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )


SECRETS: list[Kind] = [
    k("aws-access-key-id", "cloud", "AWS_ACCESS_KEY_ID", t("AKIA{b32:16}")),
    k("aws-secret-access-key", "cloud", "AWS_SECRET_ACCESS_KEY", t("{b64:40}")),
    k("gcp-api-key", "cloud", "GOOGLE_MAPS_API_KEY", t("AIza{b64url:35}")),
    k("gcp-oauth-client-secret", "cloud", "GOOGLE_CLIENT_SECRET", t("GOCSPX-{b64url:28}")),
    k("azure-storage-key", "cloud", "AZURE_STORAGE_CONNECTION_STRING", azure_connection_string),
    k("digitalocean-token", "cloud", "DIGITALOCEAN_TOKEN", t("dop_v1_{hex:64}")),
    k("databricks-token", "cloud", "DATABRICKS_TOKEN", t("dapi{hex:32}")),
    k("vault-token", "cloud", "VAULT_TOKEN", t("hvs.{b64url:95}")),
    k("doppler-token", "cloud", "DOPPLER_TOKEN", t("dp.pt.{alnum:43}")),
    k("pulumi-token", "cloud", "PULUMI_ACCESS_TOKEN", t("pul-{hex:40}")),
    k("supabase-token", "cloud", "SUPABASE_ACCESS_TOKEN", t("sbp_{hex:40}")),
    k("github-pat", "vcs", "GITHUB_TOKEN", lambda r: crc_token(r, "ghp_")),
    k("gitlab-pat", "vcs", "GITLAB_TOKEN", t("glpat-{b64url:20}")),
    k("npm-token", "vcs", "NPM_TOKEN", lambda r: crc_token(r, "npm_")),
    k("pypi-token", "vcs", "TWINE_PASSWORD", t("pypi-AgEIcHlwaS5vcmc{b64url:150}")),
    k("docker-hub-token", "vcs", "DOCKERHUB_TOKEN", t("dckr_pat_{b64url:27}")),
    k("grafana-token", "vcs", "GRAFANA_TOKEN", t("glsa_{alnum:32}_{hex:8}")),
    k("sentry-token", "vcs", "SENTRY_AUTH_TOKEN", t("sntryu_{hex:64}")),
    k("postman-key", "vcs", "POSTMAN_API_KEY", t("PMAK-{hex:24}-{hex:34}")),
    k("rubygems-key", "vcs", "GEM_HOST_API_KEY", t("rubygems_{hex:48}")),
    k("slack-bot-token", "chat", "SLACK_BOT_TOKEN", t("xoxb-{digits:12}-{digits:13}-{alnum:24}")),
    k(
        "slack-webhook",
        "chat",
        "SLACK_WEBHOOK_URL",
        t("https://hooks.slack.com/services/T{upper:10}/B{upper:10}/{alnum:24}"),
    ),
    k(
        "discord-webhook",
        "chat",
        "DISCORD_WEBHOOK_URL",
        t("https://discord.com/api/webhooks/{digits:19}/{b64url:68}"),
    ),
    k("telegram-bot-token", "chat", "TELEGRAM_BOT_TOKEN", t("7{digits:9}:AA{b64url:33}")),
    k("twilio-auth-token", "chat", "TWILIO_AUTH_TOKEN", t("{hex:32}")),
    k("stripe-live-key", "payment", "STRIPE_SECRET_KEY", t("sk_live_51{alnum:97}")),
    k("stripe-restricted-key", "payment", "STRIPE_RESTRICTED_KEY", t("rk_live_{alnum:24}")),
    k("shopify-token", "payment", "SHOPIFY_ACCESS_TOKEN", t("shpat_{hex:32}")),
    k("square-token", "payment", "SQUARE_ACCESS_TOKEN", t("EAAA{b64url:60}")),
    k(
        "braintree-token",
        "payment",
        "BRAINTREE_ACCESS_TOKEN",
        t("access_token$production${lower:16}${hex:32}"),
    ),
    k("flutterwave-key", "payment", "FLW_SECRET_KEY", t("FLWSECK-{a-h:32}-X")),
    k("sendgrid-key", "mail", "SENDGRID_API_KEY", t("SG.{b64url:22}.{b64url:43}")),
    k("mailgun-key", "mail", "MAILGUN_API_KEY", t("key-{hex:32}")),
    k("mailchimp-key", "mail", "MAILCHIMP_API_KEY", t("{hex:32}-us{digits:1}")),
    k("brevo-key", "mail", "BREVO_API_KEY", t("xkeysib-{hex:64}-{alnum:16}")),
    k("openai-key", "ai", "OPENAI_API_KEY", t("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}")),
    k("anthropic-key", "ai", "ANTHROPIC_API_KEY", t("sk-ant-api03-{b64url:93}AA")),
    k("huggingface-token", "ai", "HF_TOKEN", t("hf_{letters:34}")),
    k("groq-key", "ai", "GROQ_API_KEY", t("gsk_{alnum:52}")),
    k("replicate-token", "ai", "REPLICATE_API_TOKEN", t("r8_{alnum:37}")),
    k("perplexity-key", "ai", "PERPLEXITY_API_KEY", t("pplx-{alnum:48}")),
    k("datadog-api-key", "monitoring", "DD_API_KEY", t("{hex:32}")),
    k("new-relic-key", "monitoring", "NEW_RELIC_API_KEY", t("NRAK-{upper:27}")),
    k("linear-key", "monitoring", "LINEAR_API_KEY", t("lin_api_{alnum:40}")),
    k("notion-token", "monitoring", "NOTION_TOKEN", t("ntn_{digits:11}{alnum:35}")),
    k("figma-token", "monitoring", "FIGMA_TOKEN", t("figd_{b64url:40}")),
    k("dynatrace-token", "monitoring", "DT_API_TOKEN", t("dt0c01.{upper:24}.{upper:64}")),
    k(
        "postgres-url",
        "database",
        "DATABASE_URL",
        t("postgresql://orders_rw:{alnum:20}@db-{lower:6}.internal:5432/orders"),
    ),
    k(
        "mysql-url",
        "database",
        "SQLALCHEMY_DATABASE_URI",
        t("mysql+pymysql://shop:{alnum:18}@mysql-{digits:1}.internal/shop"),
    ),
    k(
        "mongodb-url",
        "database",
        "MONGO_URI",
        t("mongodb+srv://api:{alnum:24}@cluster0.{lower:5}.mongodb.net/app"),
    ),
    k(
        "redis-url",
        "database",
        "REDIS_URL",
        t("redis://:{alnum:32}@cache-{digits:1}.internal:6379/0"),
    ),
    k("jwt", "keys", "ACCESS_TOKEN", jwt),
]
PEM_KINDS = {
    "rsa-private-key": "RSA PRIVATE KEY",
    "openssh-private-key": "OPENSSH PRIVATE KEY",
    "ec-private-key": "EC PRIVATE KEY",
}


def d(name: str, variable: str, value: Gen) -> Kind:
    return Kind(name, "decoy", variable, value, secret=False)


DECOYS: list[Kind] = [
    d("sha1", "commit", lambda r: hashlib.sha1(r.randbytes(16)).hexdigest()),
    d("sha256", "checksum", lambda r: hashlib.sha256(r.randbytes(16)).hexdigest()),
    d("md5", "md5sum", lambda r: hashlib.md5(r.randbytes(16)).hexdigest()),
    d("uuid", "request_id", lambda r: str(uuid.UUID(int=r.getrandbits(128), version=4))),
    d(
        "integrity",
        "integrity",
        lambda r: "sha512-" + base64.b64encode(hashlib.sha512(r.randbytes(16)).digest()).decode(),
    ),
    d("base64-data", "thumbnail", lambda r: base64.b64encode(r.randbytes(45)).decode()),
    d("placeholder-changeme", "password", lambda r: "changeme"),
    d("placeholder-your-key", "api_key", lambda r: "<your-key>"),
    d("placeholder-env", "token", lambda r: "${TOKEN}"),
    d("placeholder-x", "API_KEY", lambda r: "x" * 32),
    d("placeholder-stars", "password", lambda r: "********"),
    d("placeholder-template", "db_password", lambda r: "{{ db_password }}"),
    d(
        "hash-under-a-token-name",
        "TOKEN_SHA256",
        lambda r: hashlib.sha256(r.randbytes(8)).hexdigest(),
    ),
    d("doc-aws-key-id", "AWS_ACCESS_KEY_ID", lambda r: "AKIAIOSFODNN7EXAMPLE"),
    d(
        "doc-aws-secret",
        "AWS_SECRET_ACCESS_KEY",
        lambda r: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    d("doc-stripe-test-key", "STRIPE_SECRET_KEY", lambda r: "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    d("doc-github-token", "GITHUB_TOKEN", lambda r: "ghp_" + "x" * 36),
    d(
        "doc-jwt-io",
        "ACCESS_TOKEN",
        lambda r: (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
            "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        ),
    ),
]


# --- the corpus ----------------------------------------------------------------------------


GENERIC_NAMES = ("API_KEY", "TOKEN", "SECRET", "CREDENTIALS", "AUTH_TOKEN")


def variable_name(rng: random.Random, kind: Kind) -> str:
    """A secret's: mostly its provider's own name for it (STRIPE_SECRET_KEY), a third of the
    time a generic one (API_KEY, TOKEN), where a format without a prefix of its own is only a
    generic secret. A decoy's: its own (checksum, request_id)."""
    if kind.secret and rng.random() < 1 / 3:
        return rng.choice(GENERIC_NAMES)
    return kind.variable


@dataclass(frozen=True)
class Planted:
    path: Path
    first: int
    last: int
    kind: str
    category: str
    secret: bool


def assignment(suffix: str, variable: str, value: str) -> list[str]:
    """The line a file of this type would hold the value in."""
    lower = variable.lower()
    if suffix == ".py":
        return [f'{variable} = "{value}"']
    if suffix == ".js":
        return [f'const {lower} = "{value}";']
    if suffix == ".json":
        return [f'  "{lower}": "{value}",']
    if suffix in (".yaml", ".yml"):
        return [f"{lower}: {value}"]
    if suffix == ".md":
        return ["```bash", f"export {variable}={value}", "```"]
    return [f"{variable}={value}"]


def pem_lines(suffix: str, key: list[str]) -> list[str]:
    if suffix == ".py":
        return [f'PRIVATE_KEY = """{key[0]}', *key[1:-1], f'{key[-1]}"""']
    if suffix == ".js":
        return [f"const privateKey = `{key[0]}", *key[1:-1], f"{key[-1]}`;"]
    if suffix == ".json":
        return ['  "private_key": "' + "\\n".join(key) + '\\n",']
    if suffix in (".yaml", ".yml"):
        return ["private_key: |", *(f"  {line}" for line in key)]
    if suffix == ".md":
        return ["```", *key, "```"]
    return key


@dataclass
class Corpus:
    root: Path
    files: list[Path] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    by_suffix: Counter[str] = field(default_factory=Counter)


def corpus_sources(files: list[TextFile], count: int, seed: int) -> list[TextFile]:
    """Real files of each type (all of the rarer types, then .py to make up the count)."""
    rng = random.Random(seed)
    fitting = [f for f in files if f.path.suffix in CORPUS_EXTENSIONS and 1024 <= f.size <= 100_000]
    others = [f for f in fitting if f.path.suffix != ".py"]
    python = [f for f in fitting if f.path.suffix == ".py"]
    rng.shuffle(others)
    rng.shuffle(python)
    chosen = others[: count // 3]
    return chosen + python[: count - len(chosen)]


def build_corpus(root: Path, sources: list[TextFile], seed: int) -> Corpus:
    rng = random.Random(seed)
    kinds: list[Kind | str] = [*SECRETS, *PEM_KINDS]
    corpus = Corpus(root)
    secret_turn = decoy_turn = 0
    for number, source in enumerate(sources):
        suffix = source.path.suffix
        lines = read_text(source.path).split("\n")
        plants: list[tuple[Kind | str, bool]] = []
        for _ in range(rng.choice((1, 2))):
            plants.append((kinds[secret_turn % len(kinds)], True))
            secret_turn += 1
        for _ in range(rng.choice((1, 2))):
            plants.append((DECOYS[decoy_turn % len(DECOYS)], False))
            decoy_turn += 1
        at = sorted(rng.randrange(len(lines) + 1) for _ in plants)
        out: list[str] = []
        target = root / f"{number:03d}-{source.path.name}"
        previous = 0
        for where, (kind, secret) in zip(at, plants, strict=True):
            out.extend(lines[previous:where])
            previous = where
            if isinstance(kind, str):
                block = pem_lines(suffix, pem(rng, PEM_KINDS[kind], 6))
                name, category = kind, "keys"
            else:
                block = assignment(suffix, variable_name(rng, kind), kind.value(rng))
                name, category = kind.name, kind.category
            first = len(out) + 1
            out.extend(block)
            corpus.planted.append(Planted(target, first, len(out), name, category, secret))
        out.extend(lines[previous:])
        target.write_text("\n".join(out), encoding="utf-8")
        corpus.files.append(target)
        corpus.by_suffix[suffix] += 1
    return corpus


@dataclass
class Score:
    tool: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    unlabelled: int = 0
    found: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    decoys_reported: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        reported = self.true_positives + self.false_positives
        return self.true_positives / reported if reported else 1.0

    @property
    def recall(self) -> float:
        planted = self.true_positives + self.false_negatives
        return self.true_positives / planted if planted else 1.0

    @property
    def f1(self) -> float:
        both = self.precision + self.recall
        return 2 * self.precision * self.recall / both if both else 0.0


def score(name: str, corpus: Corpus, reported: Callable[[Path], set[int]]) -> Score:
    result = Score(name)
    for path in corpus.files:
        lines = reported(path)
        labelled: set[int] = set()
        for item in (p for p in corpus.planted if p.path == path):
            span = set(range(item.first, item.last + 1))
            labelled |= span
            hit = bool(lines & span)
            if item.secret and hit:
                result.true_positives += 1
                result.found[item.category] += 1
            elif item.secret:
                result.false_negatives += 1
                result.missed[item.kind] += 1
            elif hit:
                result.false_positives += 1
                result.decoys_reported[item.kind] += 1
        result.unlabelled += len(lines - labelled)
    return result


def accuracy(file_count: int, seed: int) -> None:
    files = text_files(SITE_PACKAGES)
    sources = corpus_sources(files, file_count, seed)
    with tempfile.TemporaryDirectory(prefix="shieldwall-secrets-bench-") as tmp:
        corpus = build_corpus(Path(tmp), sources, seed)
        secrets = [p for p in corpus.planted if p.secret]
        kinds = len({p.kind for p in secrets})
        types = ", ".join(f"{suffix} {n}" for suffix, n in corpus.by_suffix.most_common())
        print(
            f"precision / recall: {len(corpus.files)} real files ({types}) with {len(secrets)} "
            f"planted secrets of {kinds} kinds and {len(corpus.planted) - len(secrets)} decoys "
            f"(seed {seed})"
        )
        shieldwall = Shieldwall()
        scores = [
            score("shieldwall", corpus, shieldwall.lines),
            score(
                "shieldwall high+medium",
                corpus,
                lambda path: shieldwall.lines(path, Confidence.MEDIUM),
            ),
        ]
        tool = detect_secrets()
        if tool is None:
            print("detect-secrets: not installed, comparison skipped")
        else:
            with tool.configured():
                scores.append(score(tool.name, corpus, tool.lines))
    print(
        f"{'tool':<24} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>10} {'recall':>7} {'F1':>6}"
        "  unlabelled (on the original files)"
    )
    for s in scores:
        print(
            f"{s.tool:<24} {s.true_positives:>5} {s.false_positives:>5} {s.false_negatives:>5} "
            f"{s.precision:>10.3f} {s.recall:>7.3f} {s.f1:>6.3f}  {s.unlabelled}"
        )
    ours = scores[0]
    planted = Counter(p.category for p in corpus.planted if p.secret)
    print(
        "shieldwall recall by category: "
        + ", ".join(
            f"{category} {ours.found[category] / total:.2f} ({ours.found[category]}/{total})"
            for category, total in sorted(planted.items())
        )
    )
    for s in scores:
        if s.missed:
            print(f"{s.tool} missed: " + ", ".join(f"{k} {n}" for k, n in s.missed.most_common()))
        if s.decoys_reported:
            print(
                f"{s.tool} reported decoys: "
                + ", ".join(f"{k} {n}" for k, n in s.decoys_reported.most_common())
            )


def main(argv: list[str] | None = None) -> None:
    """Run both parts; ``argv`` are this module's options (none: the defaults, so that
    ``benchmarks.run`` can call ``main()`` whatever its own command line)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sample-mb", type=float, default=20.0, help="detect-secrets sample")
    parser.add_argument("--files", type=int, default=300, help="real files in the corpus")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args([] if argv is None else argv)
    throughput(args.sample_mb, args.seed)
    print()
    accuracy(args.files, args.seed)


if __name__ == "__main__":
    main(sys.argv[1:])
