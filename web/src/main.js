// The Cruddur page: home feed, a profile, a post form; for the last request, its trace id and links
// to that trace in Jaeger (and Honeycomb or X-Ray when the gateway says they are configured).
import { SpanStatusCode } from '@opentelemetry/api';
import { startTracing } from './tracing.js';

const $ = (id) => document.getElementById(id);
let tracer = null;
let links = {};

/** The trace id of a gateway answer (`traceresponse: 00-<trace id>-<span id>-<flags>`), or null. */
function traceIdOf(response) {
  const parts = (response.headers.get('traceresponse') || '').split('-');
  return parts.length === 4 && parts[1].length === 32 ? parts[1] : null;
}

/** X-Ray's form of a W3C trace id: `1-<first 8 hex>-<remaining 24 hex>`. */
function xrayTraceId(traceId) {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

function showTrace(request, response, millis, traceId) {
  $('last-request').textContent = `${request} → ${response.status} in ${millis.toFixed(0)} ms`;
  $('trace-id').textContent = traceId || '(no traceresponse)';
  const list = $('trace-links');
  list.replaceChildren();
  if (!traceId) return;
  for (const [name, template] of Object.entries(links)) {
    const url = template.replace('{trace_id}', traceId).replace('{xray_trace_id}', xrayTraceId(traceId));
    const item = document.createElement('li');
    const anchor = Object.assign(document.createElement('a'), { href: url, target: '_blank', rel: 'noopener' });
    anchor.textContent = `Open in ${name}`;
    anchor.dataset.backend = name;
    item.append(anchor);
    list.append(item);
  }
}

/**
 * One click, one trace: a span for the click, current while `fetch` starts (so the fetch span is
 * its child and carries the trace to the gateway), ended once the answer is on the page.
 */
function clicked(name, method, path, init, render) {
  return tracer.startActiveSpan(`click ${name}`, async (span) => {
    const started = performance.now();
    try {
      const response = await fetch(path, { method, ...init });
      const body = await response.json();
      const traceId = traceIdOf(response);
      showTrace(`${method} ${path}`, response, performance.now() - started, traceId);
      span.setAttribute('http.response.status_code', response.status);
      if (!response.ok) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(response.status) });
        showError(body.detail);
        return;
      }
      $('error').hidden = true;
      render(body);
    } catch (error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      showError(String(error));
    } finally {
      span.end();
    }
  });
}

function showError(detail) {
  $('error').hidden = false;
  $('error').textContent = typeof detail === 'string' ? detail : JSON.stringify(detail);
}

function crud(post) {
  const article = document.createElement('article');
  article.className = 'crud';
  const who = document.createElement('header');
  const name = document.createElement('strong');
  name.textContent = post.author ? post.author.display_name : post.handle;
  const handle = document.createElement('span');
  handle.className = 'handle';
  handle.textContent = ` @${post.handle} · ${new Date(post.created_at).toLocaleString()}`;
  who.append(name, handle);
  const message = document.createElement('p');
  message.textContent = post.message;
  article.append(who, message);
  return article;
}

function showPosts(title, posts, profile) {
  $('feed-title').textContent = title;
  const bio = $('profile');
  bio.hidden = !profile;
  if (profile) bio.textContent = `${profile.display_name} (@${profile.handle}) — ${profile.bio}`;
  $('feed').replaceChildren(...posts.map(crud));
}

function home() {
  return clicked('home feed', 'GET', '/api/activities/home', {}, (posts) => showPosts('Home', posts, null));
}

function profile(event) {
  event.preventDefault();
  const handle = $('handle').value.trim().replace(/^@/, '');
  return clicked('profile', 'GET', `/api/activities/@${encodeURIComponent(handle)}`, {}, (page) =>
    showPosts(`@${handle}`, page.activities, page.profile),
  );
}

function post(event) {
  event.preventDefault();
  const init = {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${$('token').value.trim()}` },
    body: JSON.stringify({ message: $('message').value }),
  };
  return clicked('post', 'POST', '/api/activities', init, (created) => {
    $('message').value = '';
    $('profile').hidden = true;
    $('feed-title').textContent = 'Posted';
    $('feed').replaceChildren(crud(created));
  });
}

/** A token from the gateway's development-only route (absent outside ENVIRONMENT=development). */
async function devToken() {
  const response = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle: $('token-handle').value.trim() }),
  });
  if (!response.ok) {
    showError(`no development token here (${response.status}): paste one from \`make token\``);
    return;
  }
  $('token').value = (await response.json()).token;
}

async function start() {
  const config = await (await fetch('/telemetry/browser')).json();
  links = config.links;
  tracer = startTracing(config);
  $('exporting').textContent = config.traces_endpoint
    ? `browser spans → ${config.traces_endpoint}`
    : 'browser spans are not exported (the gateway exports nowhere)';
  $('home').addEventListener('click', home);
  $('profile-form').addEventListener('submit', profile);
  $('post-form').addEventListener('submit', post);
  $('get-token').addEventListener('click', devToken);
  document.body.dataset.ready = 'true';
}

start();
