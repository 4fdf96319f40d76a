// A component loaded on first render (a dynamic import: its own chunk, fetched when needed).
import { useEffect, useState } from 'preact/hooks';

export function lazy(load) {
  let Loaded = null;
  return function Lazy(props) {
    const [C, setC] = useState(() => Loaded);
    const [err, setErr] = useState(null);
    useEffect(() => {
      if (!C)
        load()
          .then((m) => setC(() => (Loaded = m)))
          .catch(setErr);
    }, []);
    if (err) return <p class="error">Could not load this page: {String(err.message || err)}</p>;
    return C ? <C {...props} /> : <p class="muted">Loading…</p>;
  };
}
