/** Version of our API document. Major and minor follow the reference (2.4); patch counts our additions. */
export const API_VERSION = '2.4.0-toolforge.1';
