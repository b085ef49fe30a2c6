"""The fixed words of a threat model: element types, protocols, levels, categories.

Data classes and exposure come from the inventory's vocabulary, so a model and the service it
describes speak the same language.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from shieldwall.inventory.vocabulary import DataClass, Exposure

__all__ = [
    "CLIENT_TYPES",
    "DATASTORE_TYPES",
    "ENCRYPTED_PROTOCOLS",
    "LINDDUN",
    "PERSONAL_DATA",
    "STRIDE",
    "ActorTrust",
    "Authentication",
    "Authorization",
    "BoundaryType",
    "Category",
    "ComponentType",
    "DataClass",
    "Exposure",
    "Feature",
    "Impact",
    "Level",
    "Likelihood",
    "Protocol",
    "ThreatStatus",
]


class Level(IntEnum):
    """A need for confidentiality, integrity or availability, and a risk band."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def word(self) -> str:
        return self.name.lower()


class Likelihood(IntEnum):
    RARE = 1
    UNLIKELY = 2
    POSSIBLE = 3
    LIKELY = 4
    ALMOST_CERTAIN = 5


class Impact(IntEnum):
    NEGLIGIBLE = 1
    MINOR = 2
    MODERATE = 3
    MAJOR = 4
    SEVERE = 5


class ActorTrust(StrEnum):
    """How far an actor is trusted, from anyone on the internet to an administrator."""

    UNTRUSTED = "untrusted"
    AUTHENTICATED = "authenticated"
    PARTNER = "partner"
    INTERNAL = "internal"
    PRIVILEGED = "privileged"


class ComponentType(StrEnum):
    PROCESS = "process"
    WEB_APPLICATION = "web_application"
    API = "api"
    GATEWAY = "gateway"
    FUNCTION = "function"
    QUEUE = "queue"
    DATABASE = "database"
    OBJECT_STORAGE = "object_storage"
    FILE_SYSTEM = "file_system"
    CACHE = "cache"
    SECRET_STORE = "secret_store"  # noqa: S105 - a kind of component
    LOG_STORE = "log_store"
    EXTERNAL_SERVICE = "external_service"
    IDENTITY_PROVIDER = "identity_provider"
    LLM = "llm"
    BROWSER = "browser"
    MOBILE_CLIENT = "mobile_client"
    DESKTOP_CLIENT = "desktop_client"
    DEVICE = "device"
    CI_CD = "ci_cd"
    SCHEDULER = "scheduler"


DATASTORE_TYPES = frozenset(
    {
        ComponentType.DATABASE,
        ComponentType.OBJECT_STORAGE,
        ComponentType.FILE_SYSTEM,
        ComponentType.CACHE,
        ComponentType.SECRET_STORE,
        ComponentType.LOG_STORE,
    }
)
CLIENT_TYPES = frozenset(
    {
        ComponentType.BROWSER,
        ComponentType.MOBILE_CLIENT,
        ComponentType.DESKTOP_CLIENT,
        ComponentType.DEVICE,
    }
)


class BoundaryType(StrEnum):
    NETWORK = "network"
    CLOUD_ACCOUNT = "cloud_account"
    NETWORK_SEGMENT = "network_segment"
    NAMESPACE = "namespace"
    EXECUTION_ENVIRONMENT = "execution_environment"
    TENANT = "tenant"
    PRIVILEGE = "privilege"
    HUMAN_APPROVAL = "human_approval"
    PHYSICAL = "physical"
    ORGANISATION = "organisation"


class Protocol(StrEnum):
    HTTPS = "https"
    HTTP = "http"
    WSS = "wss"
    WS = "ws"
    GRPC = "grpc"
    GRPCS = "grpcs"
    GRAPHQL = "graphql"
    SQL = "sql"
    SQL_TLS = "sql_tls"
    NOSQL = "nosql"
    NOSQL_TLS = "nosql_tls"
    AMQP = "amqp"
    AMQPS = "amqps"
    KAFKA = "kafka"
    KAFKA_TLS = "kafka_tls"
    MQTT = "mqtt"
    MQTTS = "mqtts"
    SSH = "ssh"
    SFTP = "sftp"
    FTP = "ftp"
    FTPS = "ftps"
    SMTP = "smtp"
    SMTPS = "smtps"
    LDAP = "ldap"
    LDAPS = "ldaps"
    SMB = "smb"
    NFS = "nfs"
    RDP = "rdp"
    DNS = "dns"
    SYSLOG = "syslog"
    SYSLOG_TLS = "syslog_tls"
    LOCAL = "local"
    IN_PROCESS = "in_process"
    OTHER = "other"


ENCRYPTED_PROTOCOLS = frozenset(
    {
        Protocol.HTTPS,
        Protocol.WSS,
        Protocol.GRPCS,
        Protocol.SQL_TLS,
        Protocol.NOSQL_TLS,
        Protocol.AMQPS,
        Protocol.KAFKA_TLS,
        Protocol.MQTTS,
        Protocol.SSH,
        Protocol.SFTP,
        Protocol.FTPS,
        Protocol.SMTPS,
        Protocol.LDAPS,
        Protocol.SYSLOG_TLS,
    }
)
"""Protocols that encrypt on the wire. ``local`` and ``in_process`` never leave the host and
count as not crossing a network; a flow may also say ``encrypted: true`` (a VPN, a mesh)."""


class Authentication(StrEnum):
    NONE = "none"
    CREDENTIALS = "credentials"
    SESSION = "session"
    TOKEN = "token"  # noqa: S105 - a kind of authentication
    API_KEY = "api_key"
    CLIENT_CERTIFICATE = "client_certificate"
    TWO_FACTOR = "two_factor"
    SSO = "sso"
    WORKLOAD_IDENTITY = "workload_identity"


class Authorization(StrEnum):
    NONE = "none"
    TECHNICAL_USER = "technical_user"
    END_USER = "end_user"


class Feature(StrEnum):
    """What a component does that draws particular threats. A rule about file uploads fires
    only where a model says a component accepts them."""

    ADMIN_INTERFACE = "admin_interface"
    AUTHENTICATES_USERS = "authenticates_users"
    FILE_UPLOAD = "file_upload"
    XML_PARSING = "xml_parsing"
    DESERIALIZATION = "deserialization"
    TEMPLATE_RENDERING = "template_rendering"
    OUTBOUND_REQUESTS = "outbound_requests"
    REDIRECTS = "redirects"
    WEBHOOKS = "webhooks"
    GRAPHQL = "graphql"
    SQL_QUERIES = "sql_queries"
    SHELL_COMMANDS = "shell_commands"
    PAYMENTS = "payments"
    EMAIL_SENDING = "email_sending"
    SEARCH = "search"
    USER_CONTENT = "user_content"
    COOKIES = "cookies"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a feature
    PLUGINS = "plugins"
    LLM_PROMPTS = "llm_prompts"
    LLM_TOOLS = "llm_tools"
    LLM_RETRIEVAL = "llm_retrieval"
    MODEL_TRAINING = "model_training"
    BATCH_JOBS = "batch_jobs"
    PROFILING = "profiling"
    ANALYTICS = "analytics"
    TRACKING = "tracking"
    THIRD_PARTY_SHARING = "third_party_sharing"
    CONSENT = "consent"
    DATA_EXPORT = "data_export"
    DATA_DELETION = "data_deletion"
    CRYPTOGRAPHY = "cryptography"
    KEY_MANAGEMENT = "key_management"
    SECRETS_IN_CONFIG = "secrets_in_config"
    DEPLOYS_CODE = "deploys_code"
    BUILDS_CODE = "builds_code"
    CACHES_RESPONSES = "caches_responses"
    MULTI_TENANT = "multi_tenant"
    PUBLIC_CONTENT = "public_content"


class Category(StrEnum):
    # STRIDE
    SPOOFING = "spoofing"
    TAMPERING = "tampering"
    REPUDIATION = "repudiation"
    INFORMATION_DISCLOSURE = "information_disclosure"
    DENIAL_OF_SERVICE = "denial_of_service"
    ELEVATION_OF_PRIVILEGE = "elevation_of_privilege"
    # LINDDUN (the 2023 names)
    LINKING = "linking"
    IDENTIFYING = "identifying"
    NON_REPUDIATION = "non_repudiation"
    DETECTING = "detecting"
    DATA_DISCLOSURE = "data_disclosure"
    UNAWARENESS = "unawareness"
    NON_COMPLIANCE = "non_compliance"


STRIDE = (
    Category.SPOOFING,
    Category.TAMPERING,
    Category.REPUDIATION,
    Category.INFORMATION_DISCLOSURE,
    Category.DENIAL_OF_SERVICE,
    Category.ELEVATION_OF_PRIVILEGE,
)
LINDDUN = (
    Category.LINKING,
    Category.IDENTIFYING,
    Category.NON_REPUDIATION,
    Category.DETECTING,
    Category.DATA_DISCLOSURE,
    Category.UNAWARENESS,
    Category.NON_COMPLIANCE,
)

PERSONAL_DATA = frozenset({DataClass.PII, DataClass.HEALTH, DataClass.PAYMENT})
"""Data classes that are about people: where they flow, the LINDDUN rules apply."""


class ThreatStatus(StrEnum):
    OPEN = "open"
    MITIGATED = "mitigated"
    ACCEPTED = "accepted"
    TRANSFERRED = "transferred"
    NOT_APPLICABLE = "not_applicable"
