"""The actions a request may need on a repository or the registry, in the token-auth spec's
vocabulary; authorizers, the access policy and the handlers all speak them."""

PULL = "pull"
PUSH = "push"
DELETE = "delete"
CATALOG = "catalog"
