"""The whole schema: importing this module registers every domain's tables.

Whole-database operations (migrations, backup and restore) use ``metadata`` from here; domain
code imports only its own models.
"""

from shieldwall.audit import models as _audit  # noqa: F401
from shieldwall.auth import models as _auth  # noqa: F401
from shieldwall.db.base import Base
from shieldwall.exceptions import models as _exceptions  # noqa: F401
from shieldwall.findings import models as _findings  # noqa: F401
from shieldwall.gate import models as _gate  # noqa: F401
from shieldwall.ingest import models as _ingest  # noqa: F401
from shieldwall.intel import models as _intel  # noqa: F401
from shieldwall.inventory import models as _inventory  # noqa: F401
from shieldwall.risk import models as _risk  # noqa: F401
from shieldwall.threatmodel import models as _threatmodel  # noqa: F401

metadata = Base.metadata
