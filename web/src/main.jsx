// The app shell: who is logged in, the navigation, the theme, and the page for the path.
import { render } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { get, post, setUnauthorizedHandler } from './api.js';
import * as live from './live.js';
import { Link, navigate, usePath } from './util.jsx';
import { Login } from './pages/Login.jsx';
import { Devices } from './pages/Devices.jsx';
import { System } from './pages/System.jsx';
import { lazy } from './lazy.jsx';
import './style.css';

// Charts pull in uPlot: loaded when first shown, so the first load stays small.
const Charts = lazy(() => import('./pages/Charts.jsx').then((m) => m.Charts));
const Dashboards = lazy(() => import('./pages/Dashboards.jsx').then((m) => m.Dashboards));
// The editors: their own chunk too.
const Setup = lazy(() => import('./pages/Setup.jsx').then((m) => m.Setup));

// Set after a login so a reload asks the server who we are; without it the login page shows
// without a request (a 401 would be a console error on every first visit).
const SESSION = 'sb.session';

function useTheme() {
  const [theme, setTheme] = useState(localStorage.getItem('sb.theme') || 'auto');
  useLayoutEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('sb.theme', theme);
  }, [theme]);
  const next = { auto: 'light', light: 'dark', dark: 'auto' };
  return [theme, () => setTheme((t) => next[t])];
}

function LiveDot() {
  const [s, set] = useState('offline');
  useEffect(() => live.onStatus(set), []);
  return <span class={`live ${s}`} title={`updates: ${s}`} data-live={s} />;
}

function App() {
  const [user, setUser] = useState(undefined); // undefined: not known yet; null: logged out
  const [theme, nextTheme] = useTheme();
  const path = usePath();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      localStorage.removeItem(SESSION);
      live.stop();
      setUser(null);
    });
    if (!localStorage.getItem(SESSION)) return setUser(null);
    get('/user/profile')
      .then((u) => setUser(u))
      .catch(() => setUser(null));
  }, []);

  useEffect(() => {
    if (user) live.start();
  }, [user]);

  if (user === undefined) return <div class="loading">Loading…</div>;
  if (!user)
    return (
      <Login
        onLogin={(u) => {
          localStorage.setItem(SESSION, '1');
          setUser(u);
          if (location.pathname === '/' || location.pathname === '/login') navigate('/devices');
        }}
      />
    );

  const logout = async () => {
    try {
      await post('/user/logout', {});
    } finally {
      localStorage.removeItem(SESSION);
      live.stop();
      setUser(null);
    }
  };
  const canEdit = user.role === 'admin' || user.role === 'readwrite';
  const page = path.split('?')[0];
  const nav = [
    ['/dashboards', 'Dashboards'],
    ['/devices', 'Devices'],
    ['/charts', 'Charts'],
    ['/setup', 'Setup'],
    ['/system', 'System'],
  ];
  let body;
  if (page.startsWith('/charts')) body = <Charts />;
  else if (page.startsWith('/dashboards')) body = <Dashboards canEdit={canEdit} />;
  else if (page.startsWith('/system')) body = <System role={user.role} />;
  else if (page.startsWith('/setup')) body = <Setup canEdit={canEdit} role={user.role} />;
  else body = <Devices canEdit={canEdit} />;

  return (
    <div class="shell">
      <header class="top">
        <span class="brand">Switchboard</span>
        <nav>
          {nav.map(([href, label]) => (
            <Link href={href} class={page.startsWith(href) || (href === '/devices' && page === '/') ? 'on' : ''}>
              {label}
            </Link>
          ))}
        </nav>
        <span class="spacer" />
        <LiveDot />
        <button class="ghost" onClick={nextTheme} title="theme: auto, light, dark" aria-label="theme">
          {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}
        </button>
        <span class="who" data-testid="who">
          {user.username} <span class={`role ${user.role}`}>{user.role}</span>
        </span>
        <button class="ghost" onClick={logout}>
          Log out
        </button>
      </header>
      <main>{body}</main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
