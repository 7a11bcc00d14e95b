// Credentials never reach a message, a log line or error data: every text that leaves the forge
// or a notifier passes through here. Known secrets are replaced verbatim; GitHub token shapes are
// caught even when nobody told us about them (a token pasted into a URL, an echoed header).

const TOKEN_SHAPES = /\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})\b/g;

export function redact(text: string, secrets: ReadonlyArray<string | undefined | null> = []): string {
  let out = text;
  for (const s of secrets) {
    // Very short "secrets" would shred ordinary words; such values are not real credentials.
    if (s && s.length >= 6) out = out.split(s).join('***');
  }
  return out.replace(TOKEN_SHAPES, '***');
}

