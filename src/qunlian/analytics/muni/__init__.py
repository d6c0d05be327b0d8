"""亩均论英雄: per-mu efficiency evaluation — engine, simulator, warnings, differentiated measures."""
