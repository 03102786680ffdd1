/** The CLI's version (the repository is versioned as a whole). */
export const VERSION = '0.1.0';
