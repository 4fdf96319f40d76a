// Hooks and the router shared by the pages; the pure helpers are in format.js (re-exported).
import { useEffect, useState } from 'preact/hooks';

export * from './format.js';

/** Re-renders every period ms (for "5 s ago" texts). */
export function useTick(period = 5000) {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((n) => n + 1), period);
    return () => clearInterval(t);
  }, [period]);
}

/** The browser-side router: the path and a navigate() that pushes history. */
export function usePath() {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const on = () => setPath(location.pathname + location.search);
    addEventListener('popstate', on);
    addEventListener('sb:navigate', on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('sb:navigate', on);
    };
  }, []);
  return path;
}

export function navigate(to) {
  if (location.pathname + location.search === to) return;
  history.pushState(null, '', to);
  dispatchEvent(new Event('sb:navigate'));
}

export function Link({ href, children, ...rest }) {
  return (
    <a
      href={href}
      onClick={(e) => {
        if (e.button || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}
