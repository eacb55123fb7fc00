-- Used signatures are now kept until their date plus the largest skew any instance may allow
-- (3600 s) plus a 60 s margin for clocks, whatever the recording instance allowed. A stored
-- expiry is its date plus that instance's own skew (at least 1 s), and the date itself is not
-- stored: adding the whole 3660 s keeps every entry at least as long as the new rule does, so an
-- upgrade does not forget a signature that an instance allowing a wider window still accepts.
-- datetime() writes the 'YYYY-MM-DD HH:MM:SS' text the service stores and compares.
UPDATE used_signatures SET expires_at = datetime(expires_at, '+3660 seconds');
