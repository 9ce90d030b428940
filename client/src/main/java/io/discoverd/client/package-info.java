/**
 * Java client for discoverd v1 daemons: this project's daemon and the original 2014 Go one.
 *
 * <p>Start at {@link io.discoverd.client.DiscoverdClient}: it registers instances and keeps them
 * alive with heartbeats, and opens {@link io.discoverd.client.ServiceSet}s, live views of a
 * service's online {@link io.discoverd.client.ServiceInstance}s with their leader. Failures are
 * {@link io.discoverd.client.DiscoverdException}s with a {@link io.discoverd.client.DiscoverdException.Kind}.
 * Listeners are cancelled through the {@link io.discoverd.client.ListenerHandle} their registration
 * returns.
 *
 * <p>The client speaks gob over the daemon's HTTP CONNECT port (PROTOCOL.md §1, §3) and uses only
 * the three v1 methods ({@code Agent.Register}, {@code Agent.Unregister}, {@code Agent.Subscribe}):
 * leaders are computed from subscriptions (PROTOCOL.md §6.2), never asked of the daemon.
 */
package io.discoverd.client;
