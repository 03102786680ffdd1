/** Who is calling: a tool, proven by a token, a client certificate, or a trusted gateway header. */
export interface Identity {
  tool: string;
  via: 'token' | 'certificate' | 'gateway';
}
