"""What every capability stands on: config, db, rules, permissions, caches, i18n, the web kit, the registry."""
