/** Turns output chunks into whole lines (a partial last line is kept until more comes or flush()). */
export function lineSplitter(emit: (line: string) => void, maxLine = 16 * 1024) {
  let pending = '';
  return {
    push(text: string): void {
      pending += text;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        emit(pending.slice(0, nl).replace(/\r$/, ''));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      // A line without an end (progress bars, binary junk) is cut rather than held forever.
      while (pending.length > maxLine) {
        emit(pending.slice(0, maxLine));
        pending = pending.slice(maxLine);
      }
    },
    flush(): void {
      if (pending) emit(pending);
      pending = '';
    },
  };
}
