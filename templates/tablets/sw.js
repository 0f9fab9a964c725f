{% load static %}/* Tablet service worker (scope /tablet/). Pages: network first (fresh
 * marks when online), the last good copy when offline. Static files: from
 * the cache, refreshed in the background. The mark API and the board are
 * never cached; POSTs are never touched (tablet.js queues marks itself). */
'use strict';
var CACHE = 'tablet-v1';
var SCOPE = '{% url "tablets:home" %}';
var STATIC = '{% get_static_prefix %}';
var ASSETS = ['{% static "tablets/tablets.css" %}', '{% static "tablets/tablet.js" %}'];
var SKIP = /\/(api|board|login|logout|link|sw\.js)(\/|$)/;

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) {
  return url.origin === location.origin && url.pathname.indexOf(SCOPE) === 0 && !SKIP.test(url.pathname.slice(SCOPE.length - 1));
}
function keep(path, resp) {
  if (resp && resp.ok && !resp.redirected && resp.type === 'basic') {
    var copy = resp.clone();
    caches.open(CACHE).then(function (c) { c.put(path, copy); });
  }
  return resp;
}

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (url.pathname.indexOf(STATIC) === 0) {
    e.respondWith(caches.match(url.pathname).then(function (hit) {
      var net = fetch(req).then(function (r) { return keep(url.pathname, r); });
      return hit || net;
    }));
    return;
  }
  if (req.mode === 'navigate' && isPage(url)) {
    e.respondWith(fetch(req).then(function (r) { return keep(url.pathname, r); }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || caches.match(SCOPE) || new Response('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><h1 style="font:2rem sans-serif">离线 · Offline</h1>', { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
      });
    }));
  }
});

self.addEventListener('message', function (e) {
  var data = e.data || {};
  if (data.clear) { e.waitUntil(caches.delete(CACHE)); return; }
  if (data.prefetch) {
    e.waitUntil(caches.open(CACHE).then(function (c) {
      return Promise.all(data.prefetch.filter(function (p) { return isPage(new URL(p, location.origin)); }).map(function (p, i) {
        // The page the judge is on is refreshed; the others only fetched once.
        return c.match(p).then(function (hit) {
          if (hit && i > 0) return null;
          return fetch(p, { credentials: 'same-origin' }).then(function (r) { if (r.ok && !r.redirected) return c.put(p, r); }).catch(function () {});
        });
      }));
    }));
  }
});
