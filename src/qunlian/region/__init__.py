"""The region an installation serves: towns, parks and the industry systems (四群八链, "1212")."""
