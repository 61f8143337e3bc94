/**
 * Sections of `bench/results.md` written by runs other than the main one
 * (`--cluster`): each starts at its own `## ` heading and runs to the next
 * one, and every run keeps the sections it did not write.
 *
 * @module
 */

/** The heading of the cluster run's section. */
export const CLUSTER_HEADING = "## One process and a cluster of three";

/** The section of `markdown` under `heading`, or `""` if there is none. */
export function extractSection(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start === -1) return "";
  const next = markdown.indexOf("\n## ", start + heading.length + 2);
  return markdown.slice(start + 1, next === -1 ? undefined : next + 1)
    .trimEnd() + "\n";
}

/** `markdown` with the section under `heading` replaced by `section`. */
export function replaceSection(
  markdown: string,
  heading: string,
  section: string,
): string {
  const old = extractSection(markdown, heading);
  const base = old === "" ? markdown : markdown.replace(old, "");
  return `${base.trimEnd()}\n\n${section.trimEnd()}\n`;
}
