import { Component, type ComponentChildren } from 'preact';

interface State {
  error: unknown;
}

/** Turns a rendering bug into a readable message with a way out, instead of a blank page. */
export class ErrorBoundary extends Component<{ children: ComponentChildren; resetKey: string }, State> {
  override state: State = { error: null };

  override componentDidCatch(error: unknown): void {
    this.setState({ error });
  }

  override componentDidUpdate(previous: { resetKey: string }): void {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  override render() {
    if (this.state.error) {
      const text = this.state.error instanceof Error ? this.state.error.message : String(this.state.error);
      return (
        <div class="error-box" role="alert">
          <span>This page failed to show: {text}</span>
          <button type="button" class="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
