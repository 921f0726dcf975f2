"""Code the Lambda functions need: settings, models, storage, builds, queries.

Nothing in this package may import numpy or numba; the API package stays small.
"""

import logging

# PynamoDB logs at INFO, as it is imported, that no /etc/pynamodb override file
# exists: the normal case, which reads like an error in a server's output.
logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)
