// The test printer lives under src/ (the `printer fake` CLI runs it too); tests import it from here.
export {
  FakeEscPosPrinter,
  EscPosDecoder,
  type PrintedTicket,
  type PrintedItem,
} from '../../src/printers/fake-printer.ts';
