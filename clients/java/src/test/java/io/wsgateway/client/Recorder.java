package io.wsgateway.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records a client's and a subscription's events, for assertions from the test thread. */
final class Recorder implements ClientListener, SubscriptionListener {
  final List<ClientStateEvent> states = new CopyOnWriteArrayList<>();
  final List<SubscriptionStateEvent> subStates = new CopyOnWriteArrayList<>();
  final List<Publication> pubs = new CopyOnWriteArrayList<>();

  @Override
  public void onState(ClientStateEvent e) {
    states.add(e);
  }

  @Override
  public void onState(SubscriptionStateEvent e) {
    subStates.add(e);
  }

  @Override
  public void onPublication(Publication p) {
    pubs.add(p);
  }

  List<String> stateNames() {
    List<String> out = new ArrayList<>();
    for (ClientStateEvent e : states) {
      out.add(e.state() + (e.code() != 0 ? " " + e.code() : ""));
    }
    return out;
  }

  List<Long> offsets() {
    List<Long> out = new ArrayList<>();
    for (Publication p : pubs) {
      out.add(p.offset());
    }
    return out;
  }
}
