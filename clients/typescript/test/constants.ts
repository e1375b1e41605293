/** What the tests and their stack agree on. */

export const ISSUER = "https://issuer.test.invalid/";
export const AUDIENCE = "hd-pipeline-test";

/** What the test LLM writes, piece by piece. */
export const LLM_TEXT =
  "### Your type\n\nAs a Manifestor with Splenic authority you are here to initiate. ".repeat(2) +
  "\n\n#### Your profile\n\nYour 5/1 profile projects answers onto you; research gives them ground. ".repeat(2);
